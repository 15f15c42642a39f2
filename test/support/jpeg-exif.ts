/** Test helper: inserts a minimal EXIF APP1 segment (IFD0 with only Orientation) after SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, byteOrder: 'MM' | 'II' = 'MM'): Uint8Array {
  const le = byteOrder === 'II'
  const tiff = new Uint8Array(8 + 2 + 12 + 4)
  const v = new DataView(tiff.buffer)
  tiff.set([byteOrder.charCodeAt(0), byteOrder.charCodeAt(1)], 0)
  v.setUint16(2, 42, le)
  v.setUint32(4, 8, le) // IFD0 right after the header
  v.setUint16(8, 1, le) // one entry
  v.setUint16(10, 0x0112, le) // Orientation
  v.setUint16(12, 3, le) // SHORT
  v.setUint32(14, 1, le) // count
  v.setUint16(18, orientation, le) // value, left-justified in the 4-byte field
  v.setUint32(22, 0, le) // no next IFD
  const payload = new Uint8Array([...new TextEncoder().encode('Exif'), 0, 0, ...tiff])
  const seg = new Uint8Array(4 + payload.length)
  seg.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff])
  seg.set(payload, 4)
  const out = new Uint8Array(jpeg.length + seg.length)
  out.set(jpeg.subarray(0, 2))
  out.set(seg, 2)
  out.set(jpeg.subarray(2), 2 + seg.length)
  return out
}
