/**
 * The golden cases: one transformation chain each (URL syntax, parsed by `parseChain`), run on the
 * 160×120 source of source.ts and written as PNG. `size` is the output size the documented semantics
 * give (docs/compatibility.md, Crop modes), written out by hand, so a golden regenerated from a wrong
 * geometry still fails. `look` says what a reviewer should see in the PNG.
 */
export interface GoldenCase {
  /** File name (without .png) under expected/. */
  name: string
  /** Transformation text as in a delivery URL. */
  chain: string
  /** [width, height] from the semantics, not from our output. */
  size: [number, number]
  look: string
  /** Face boxes in source pixels (the pipeline's face input); default none. */
  faces?: Array<{ x: number; y: number; w: number; h: number }>
}

/** The "faces" some cases pretend to have found: the F and the disc of source.ts. */
const F_FACE = { x: 12, y: 10, w: 29, h: 41 }
const DISC_FACE = { x: 96, y: 18, w: 40, h: 40 }

export const GOLDEN_CASES: readonly GoldenCase[] = [
  // --- crop / resize modes with gravity --------------------------------------------------------
  { name: 'c_scale_w_80', chain: 'c_scale,w_80', size: [80, 60], look: 'whole picture at half size' },
  { name: 'c_scale_w_80_h_30', chain: 'c_scale,h_30,w_80', size: [80, 30], look: 'whole picture squashed vertically' },
  { name: 'c_fit_60x60', chain: 'c_fit,h_60,w_60', size: [60, 45], look: 'whole picture inside 60×60, aspect kept' },
  {
    name: 'c_limit_100x50',
    chain: 'c_limit,h_50,w_100',
    size: [67, 50],
    look: 'whole picture, 120/160 aspect, no crop',
  },
  {
    name: 'c_fill_g_north_80x40',
    chain: 'c_fill,g_north,h_40,w_80',
    size: [80, 40],
    look: 'top 160×80 strip: the F, the disc, only the top of the square',
  },
  {
    name: 'c_fill_g_south_east_60x60',
    chain: 'c_fill,g_south_east,h_60,w_60',
    size: [60, 60],
    look: 'right 120×120: disc, square, transparent corner',
  },
  {
    name: 'c_fill_g_west_40x60',
    chain: 'c_fill,g_west,h_60,w_40',
    size: [40, 60],
    look: 'left 80×120: F and checker strip',
  },
  {
    name: 'c_lfill_g_east_200x100',
    chain: 'c_lfill,g_east,h_100,w_200',
    size: [160, 100],
    look: 'not enlarged: the full width, a 100 px band cut from the vertical centre',
  },
  {
    name: 'c_pad_g_north_b_red',
    chain: 'b_rgb:ff0000,c_pad,g_north,h_80,w_80',
    size: [80, 80],
    look: 'picture 80×60 at the top, red band 20 px below',
  },
  {
    name: 'c_pad_transparent',
    chain: 'c_pad,h_60,w_40',
    size: [40, 60],
    look: 'picture 40×30 centred, transparent above and below',
  },
  {
    name: 'c_lpad_g_south_west_b_blue',
    chain: 'b_blue,c_lpad,g_south_west,h_130,w_170',
    size: [170, 130],
    look: 'picture not enlarged, bottom-left; blue 10 px band top and right',
  },
  {
    name: 'c_crop_g_north_east_60x50',
    chain: 'c_crop,g_north_east,h_50,w_60',
    size: [60, 50],
    look: 'top-right corner at full scale: the disc',
  },
  { name: 'c_crop_x_y', chain: 'c_crop,h_45,w_40,x_8,y_8', size: [40, 45], look: 'region from (8,8): the F, unscaled' },
  {
    name: 'c_crop_relative',
    chain: 'c_crop,g_center,h_0.5,w_0.5',
    size: [80, 60],
    look: 'central half: right of F, part of disc, top of square',
  },
  {
    name: 'c_thumb_g_north_west_50x50',
    chain: 'c_thumb,g_north_west,h_50,w_50',
    size: [50, 50],
    look: 'no faces: like c_fill, the left 120×120 (F, checker, disc cut at the right)',
  },
  {
    name: 'c_mfit_enlarges',
    chain: 'c_scale,w_40/c_mfit,h_60,w_60',
    size: [60, 45],
    look: 'a 40×30 picture enlarged to fit 60×60 (mfit never shrinks, does enlarge)',
  },
  {
    name: 'c_mpad_g_east_b_blue',
    chain: 'c_scale,w_40/b_rgb:0000ff,c_mpad,g_east,h_40,w_60',
    size: [60, 40],
    look: '40×30 picture unscaled at the right, blue padding left, above, below',
  },
  {
    name: 'c_fill_g_face_disc',
    chain: 'c_fill,g_face,h_60,w_40',
    faces: [DISC_FACE],
    size: [40, 60],
    look: 'face = the disc: the 80×120 window centred on it (source x 76–156), disc in the middle',
  },
  {
    name: 'c_thumb_g_face_F',
    chain: 'c_thumb,g_face,h_60,w_60',
    faces: [F_FACE],
    size: [60, 60],
    look: 'face = the F: a square window around the F (clamped at the top-left), F large',
  },
  {
    name: 'e_pixelate_faces_F',
    chain: 'c_scale,w_80/e_pixelate_faces:4',
    faces: [F_FACE],
    size: [80, 60],
    look: 'only the F region pixelated (4 px cells), the rest sharp',
  },
  {
    name: 'e_blur_faces_F',
    chain: 'c_scale,w_80/e_blur_faces:100',
    faces: [F_FACE],
    size: [80, 60],
    look: 'only the F region blurred',
  },
  { name: 'ar_1_c_fill_w_60', chain: 'ar_1:1,c_fill,w_60', size: [60, 60], look: 'centre square, 60×60' },
  { name: 'dpr_2_c_scale_w_40', chain: 'c_scale,dpr_2.0,w_40', size: [80, 60], look: 'same as c_scale,w_80' },
  // --- shape: corners, rotation, border, background, opacity ----------------------------------
  { name: 'r_max', chain: 'c_fill,h_80,w_80/r_max', size: [80, 80], look: 'a circle, transparent outside' },
  {
    name: 'r_20_0_40_0',
    chain: 'c_crop,g_north_west,h_80,w_120/r_20:0:40:0',
    size: [120, 80],
    look: 'top-left r20 and bottom-right r40 rounded (CSS order TL TR BR BL), the other two square',
  },
  {
    name: 'a_45',
    chain: 'c_scale,w_80/a_45',
    size: [99, 99],
    look: 'turned 45° clockwise, canvas grown, transparent corners',
  },
  { name: 'a_-30', chain: 'c_scale,w_80/a_-30', size: [100, 92], look: 'turned 30° counter-clockwise' },
  {
    name: 'a_90',
    chain: 'c_scale,w_80/a_90',
    size: [60, 80],
    look: 'clockwise: F at top-right, its bars pointing down',
  },
  { name: 'a_hflip', chain: 'c_scale,w_80/a_hflip', size: [80, 60], look: 'mirrored: F at top-right, reversed' },
  { name: 'a_vflip', chain: 'c_scale,w_80/a_vflip', size: [80, 60], look: 'upside down mirror: F at bottom-left' },
  {
    name: 'bo_4px_solid_red',
    chain: 'c_scale,w_80/bo_4px_solid_red',
    size: [88, 68],
    look: 'red 4 px frame around the picture',
  },
  {
    name: 'r_max_bo_3px_blue',
    chain: 'c_fill,h_60,w_60/bo_3px_solid_blue,r_max',
    size: [66, 66],
    look: 'circle with a blue ring that follows it',
  },
  {
    name: 'b_green_fills_alpha',
    chain: 'c_scale,w_80/b_rgb:00ff00',
    size: [80, 60],
    look: 'transparent corner green, ramp blends into green',
  },
  { name: 'o_50', chain: 'c_scale,w_80/o_50', size: [80, 60], look: 'half transparent everywhere' },
  // --- effects (e_) -----------------------------------------------------------------------------
  { name: 'e_grayscale', chain: 'c_scale,w_80/e_grayscale', size: [80, 60], look: 'grey' },
  {
    name: 'e_sepia',
    chain: 'c_scale,w_80/e_sepia',
    size: [80, 60],
    look: 'brown monochrome (ImageMagick sepia-tone, threshold 80 %): R ≥ G ≥ B everywhere',
  },
  {
    name: 'e_sepia_50',
    chain: 'c_scale,w_80/e_sepia:50',
    size: [80, 60],
    look: 'brown monochrome, darker and warmer than the default (threshold 50 %)',
  },
  {
    name: 'e_blur',
    chain: 'c_scale,w_80/e_blur',
    size: [80, 60],
    look: 'default blur (100): shapes soft, transparent corner blurred in, no dark fringe',
  },
  {
    name: 'e_blur_40',
    chain: 'c_scale,w_80/e_blur:40',
    size: [80, 60],
    look: 'slight blur: checker grey, shapes still crisp-ish',
  },
  { name: 'e_pixelate_8', chain: 'c_scale,w_80/e_pixelate:8', size: [80, 60], look: '8 px blocks' },
  { name: 'e_negate', chain: 'c_scale,w_80/e_negate', size: [80, 60], look: 'inverted colours, F black' },
  { name: 'e_brightness_40', chain: 'c_scale,w_80/e_brightness:40', size: [80, 60], look: 'brighter' },
  { name: 'e_contrast_60', chain: 'c_scale,w_80/e_contrast:60', size: [80, 60], look: 'more contrast' },
  { name: 'e_saturation_-70', chain: 'c_scale,w_80/e_saturation:-70', size: [80, 60], look: 'washed out' },
  { name: 'e_sharpen_300', chain: 'c_scale,w_80/e_sharpen:300', size: [80, 60], look: 'crisper edges' },
  { name: 'e_vignette_60', chain: 'c_scale,w_80/e_vignette:60', size: [80, 60], look: 'corners darkened' },
  { name: 'e_blackwhite', chain: 'c_scale,w_80/e_blackwhite', size: [80, 60], look: 'pure black and white' },
]
