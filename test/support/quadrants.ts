/** A picture whose regions are obvious after any crop: four solid quadrants (see QUADRANT_COLOURS). */
import { Image } from 'imagescript'

export type Rgb = readonly [number, number, number]

export const QUADRANT_COLOURS = {
  topLeft: [255, 0, 0] as Rgb, // red
  topRight: [0, 255, 0] as Rgb, // green
  bottomLeft: [0, 0, 255] as Rgb, // blue
  bottomRight: [255, 255, 0] as Rgb, // yellow
}

/** A width×height JPEG in four solid quadrants (see QUADRANT_COLOURS): where a pixel came from is obvious. */
export async function quadrantJpeg(
  width: number,
  height: number,
  quality: Parameters<Image['encodeJPEG']>[0] = 95,
): Promise<Uint8Array> {
  const image = new Image(width, height)
  const { topLeft, topRight, bottomLeft, bottomRight } = QUADRANT_COLOURS
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = y < height / 2 ? (x < width / 2 ? topLeft : topRight) : x < width / 2 ? bottomLeft : bottomRight
      image.setPixelAt(x + 1, y + 1, Image.rgbaToColor(r, g, b, 255))
    }
  }
  return new Uint8Array(await image.encodeJPEG(quality))
}
