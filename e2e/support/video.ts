/**
 * Fake camera footage for end-to-end tests. Chromium can replace the camera with a YUV4MPEG2 file
 * that it plays in a loop; these helpers draw what a kiosk camera would see (a visitor holding a
 * phone with a pass code up to it, an empty scene, or a photograph) and write such files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import QRCode from 'qrcode';
import sharp from 'sharp';

/** An RGB picture, three bytes a pixel, rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
}

/** A position or shift in pixels. */
export interface Point {
  x: number;
  y: number;
}

/** Frame size and rate shared by every video; the defaults match a common kiosk webcam mode. */
export interface VideoFormat {
  width?: number;
  height?: number;
  fps?: number;
}

/** How the phone is held: `steady` faces the camera, `tilted` is turned and slightly out of focus. */
export type PhonePose = 'steady' | 'tilted';

/** Options for a video of a pass code shown on a phone screen. */
export interface PassVideoOptions extends VideoFormat {
  /** The text the code carries, exactly as the kiosk must read it back. */
  text: string;
  /** The `.y4m` file to write; folders are created. */
  out: string;
  /** Frames of the empty scene before the phone appears, so a scanner first sees no code. */
  blankFrames?: number;
  /** Frames with the phone in view. */
  codeFrames?: number;
  pose?: PhonePose;
  /** Where the code's centre sits relative to the frame's centre, in pixels. */
  offset?: Point;
  /** Pixels per QR module; by default the largest that fits comfortably in the frame. */
  moduleScale?: number;
  errorCorrection?: 'L' | 'M' | 'Q' | 'H';
}

/** Options for a video of an arbitrary picture, e.g. a photograph from the QR corpus. */
export interface ImageVideoOptions extends VideoFormat {
  image: string;
  out: string;
  blankFrames?: number;
  imageFrames?: number;
}

/** Options for a video in which nothing but the empty scene is ever seen. */
export interface BlankVideoOptions extends VideoFormat {
  out: string;
  frames?: number;
}

type Rgb = readonly [number, number, number];

const defaults = { width: 640, height: 480, fps: 10 };
const sceneTop: Rgb = [78, 88, 101];
const sceneBottom: Rgb = [141, 137, 126];
const bezelColour: Rgb = [24, 24, 27];
const screenColour: Rgb = [246, 246, 244];
const headerColour: Rgb = [36, 112, 186];
const moduleColour: Rgb = [17, 17, 17];
// Four modules of quiet zone is what the QR standard asks for; phone apps show at least that.
const quietModules = 4;

/** Writes a video of a pass code on a phone held up to the camera; resolves to `out`. */
export async function makePassVideo(options: PassVideoOptions): Promise<string> {
  const format = resolveFormat(options);
  const blank = drawScene(format.width, format.height);
  const frames: RgbImage[] = Array.from({ length: options.blankFrames ?? 5 }, () => blank);
  for (let index = 0; index < (options.codeFrames ?? 25); index += 1)
    frames.push(await makePassFrame(options, index));

  return writeVideo(options.out, frames, format.fps);
}

/**
 * Draws one camera frame of the phone showing the pass code; `index` moves the hand a little, as
 * successive frames of a real video would. Benchmarks use single frames to time the pipeline.
 */
export async function makePassFrame(
  options: Omit<PassVideoOptions, 'out' | 'blankFrames' | 'codeFrames'>,
  index = 0,
): Promise<RgbImage> {
  const format = resolveFormat(options);
  const modules = QRCode.create(options.text, {
    errorCorrectionLevel: options.errorCorrection ?? 'M',
  }).modules;
  const scale = options.moduleScale ?? fittingModuleScale(modules.size, format);
  const offset = options.offset ?? { x: 18, y: -10 };
  const jitter = handJitter(index);
  const shift = { x: offset.x + jitter.x, y: offset.y + jitter.y };

  return options.pose === 'tilted'
    ? tiltedPhone(format, modules, scale, shift, 7 + jitter.x)
    : phoneFrame(format, modules, scale, shift);
}

/** Writes a video of the empty scene only: a camera with nobody in front of it. */
export async function makeBlankVideo(options: BlankVideoOptions): Promise<string> {
  const format = resolveFormat(options);
  const blank = drawScene(format.width, format.height);

  return writeVideo(
    options.out,
    Array.from({ length: options.frames ?? 10 }, () => blank),
    format.fps,
  );
}

/** Writes a video of a picture fitted into the frame, after a few frames of the empty scene. */
export async function makeImageVideo(options: ImageVideoOptions): Promise<string> {
  const format = resolveFormat(options);
  const picture = await fitImage(options.image, format.width, format.height);
  const blank = drawScene(format.width, format.height);

  const frames = [
    ...Array.from({ length: options.blankFrames ?? 5 }, () => blank),
    ...Array.from({ length: options.imageFrames ?? 25 }, () => picture),
  ];
  return writeVideo(options.out, frames, format.fps);
}

/** Converts RGB to I420 (planar Y, then U and V at half resolution) with BT.601 studio swing. */
export function rgbToI420(image: RgbImage): Buffer {
  const { width, height, data } = image;
  if (width % 2 !== 0 || height % 2 !== 0)
    throw new Error(`I420 needs even dimensions, got ${width}x${height}`);

  const lumaSize = width * height;
  const out = Buffer.alloc(lumaSize + lumaSize / 2);
  for (let pixel = 0; pixel < lumaSize; pixel += 1) {
    const at = pixel * 3;
    out[pixel] = lumaOf(data[at], data[at + 1], data[at + 2]);
  }

  writeChroma(
    image,
    out.subarray(lumaSize, lumaSize + lumaSize / 4),
    out.subarray(lumaSize + lumaSize / 4),
  );
  return out;
}

/** Serialises frames as a YUV4MPEG2 stream that Chromium's fake capture device plays in a loop. */
export function encodeY4m(frames: readonly RgbImage[], fps: number): Buffer {
  const first = frames[0];
  if (!first) throw new Error('a video needs at least one frame');

  const header = Buffer.from(
    `YUV4MPEG2 W${first.width} H${first.height} F${fps}:1 Ip A1:1 C420jpeg\n`,
    'ascii',
  );
  const frameMark = Buffer.from('FRAME\n', 'ascii');
  // Frames repeat a lot (blank scene, still picture): convert each distinct image once.
  const converted = new Map<RgbImage, Buffer>();
  const parts: Buffer[] = [header];
  for (const frame of frames) {
    if (frame.width !== first.width || frame.height !== first.height)
      throw new Error('frames differ in size');
    if (!converted.has(frame)) converted.set(frame, rgbToI420(frame));
    parts.push(frameMark, converted.get(frame)!);
  }

  return Buffer.concat(parts);
}

function resolveFormat(format: VideoFormat): Required<VideoFormat> {
  return {
    width: format.width ?? defaults.width,
    height: format.height ?? defaults.height,
    fps: format.fps ?? defaults.fps,
  };
}

async function writeVideo(out: string, frames: readonly RgbImage[], fps: number): Promise<string> {
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, encodeY4m(frames, fps));
  return out;
}

function lumaOf(red: number, green: number, blue: number): number {
  return ((66 * red + 129 * green + 25 * blue + 128) >> 8) + 16;
}

function writeChroma(image: RgbImage, uPlane: Buffer, vPlane: Buffer): void {
  const { width, height, data } = image;
  const chromaWidth = width / 2;

  for (let row = 0; row < height / 2; row += 1) {
    for (let column = 0; column < chromaWidth; column += 1) {
      // JPEG siting puts each chroma sample in the centre of its 2x2 block: average the four.
      const [red, green, blue] = blockAverage(data, width, column * 2, row * 2);
      uPlane[row * chromaWidth + column] = ((-38 * red - 74 * green + 112 * blue + 128) >> 8) + 128;
      vPlane[row * chromaWidth + column] = ((112 * red - 94 * green - 18 * blue + 128) >> 8) + 128;
    }
  }
}

function blockAverage(data: Buffer, width: number, x: number, y: number): Rgb {
  const sums = [0, 0, 0];
  for (const [dx, dy] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const) {
    const at = ((y + dy) * width + x + dx) * 3;
    for (let channel = 0; channel < 3; channel += 1) sums[channel] += data[at + channel];
  }

  return [Math.round(sums[0] / 4), Math.round(sums[1] / 4), Math.round(sums[2] / 4)];
}

/** A small, repeatable wobble: nobody holds a phone perfectly still. */
function handJitter(index: number): Point {
  return { x: Math.round(2 * Math.sin(index * 0.9)), y: Math.round(2 * Math.cos(index * 0.7)) };
}

function fittingModuleScale(size: number, format: Required<VideoFormat>): number {
  // About 60% of the frame's height: close enough to read, far enough that the phone shows.
  const fits = Math.floor(
    (0.6 * Math.min(format.width, format.height)) / (size + 2 * quietModules),
  );
  if (fits < 2)
    throw new Error(`a ${size}-module code does not fit a ${format.width}x${format.height} frame`);
  return fits;
}

function phoneFrame(
  format: Required<VideoFormat>,
  modules: QRCode.BitMatrix,
  scale: number,
  shift: Point,
): RgbImage {
  const centre = { x: format.width / 2 + shift.x, y: format.height / 2 + shift.y };
  return drawPhone(drawScene(format.width, format.height), modules, scale, centre);
}

/**
 * The phone turned by `degrees` and slightly out of focus. The scene is drawn larger than the
 * frame and cropped after turning, so no corner of the frame is left without a background.
 */
async function tiltedPhone(
  format: Required<VideoFormat>,
  modules: QRCode.BitMatrix,
  scale: number,
  shift: Point,
  degrees: number,
): Promise<RgbImage> {
  const pad = Math.ceil(0.15 * Math.max(format.width, format.height));
  const large = { width: format.width + 2 * pad, height: format.height + 2 * pad, fps: format.fps };
  const turned = await sharp(phoneFrame(large, modules, scale, shift).data, {
    raw: { ...large, channels: 3 },
  })
    .rotate(degrees, { background: '#000000' })
    .raw()
    .toBuffer({ resolveWithObject: true });

  const left = Math.floor((turned.info.width - format.width) / 2);
  const top = Math.floor((turned.info.height - format.height) / 2);
  const data = await sharp(turned.data, {
    raw: { width: turned.info.width, height: turned.info.height, channels: 3 },
  })
    .extract({ left, top, width: format.width, height: format.height })
    .blur(1.1)
    .raw()
    .toBuffer();

  return { width: format.width, height: format.height, data };
}

/** A wall lit from below: a vertical gradient, so no part of the frame is a flat colour. */
function drawScene(width: number, height: number): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    const mix = y / (height - 1);
    const colour = sceneTop.map((top, channel) =>
      Math.round(top + (sceneBottom[channel] - top) * mix),
    );
    for (let x = 0; x < width; x += 1) data.set(colour, (y * width + x) * 3);
  }

  return { width, height, data };
}

/**
 * Draws a phone in portrait around a code centred at `centre`. Held close to the camera, the
 * phone is taller than the frame, so its bottom is clipped as in real footage.
 */
function drawPhone(
  image: RgbImage,
  modules: QRCode.BitMatrix,
  scale: number,
  centre: Point,
): RgbImage {
  const codeSize = modules.size * scale;
  const screenWidth = codeSize + 2 * (quietModules + 2) * scale;
  const bezel = Math.max(8, Math.round(screenWidth * 0.05));
  const phoneWidth = screenWidth + 2 * bezel;
  const phoneHeight = Math.round(phoneWidth * 2);
  const left = Math.round(centre.x - phoneWidth / 2);
  // Pass apps show the code in the upper half, under a coloured title bar.
  const top = Math.round(centre.y - phoneHeight * 0.4);

  fillRoundedRect(
    image,
    { x: left, y: top, width: phoneWidth, height: phoneHeight },
    bezel * 3,
    bezelColour,
  );
  const screen = {
    x: left + bezel,
    y: top + bezel * 3,
    width: screenWidth,
    height: phoneHeight - bezel * 6,
  };
  fillRoundedRect(image, screen, bezel, screenColour);
  const titleBar = { ...screen, y: screen.y + bezel * 2, height: Math.round(screenWidth * 0.12) };
  fillRoundedRect(image, titleBar, 0, headerColour);

  const codeLeft = Math.round(centre.x - codeSize / 2);
  const codeTop = Math.round(centre.y - codeSize / 2);
  drawModules(image, modules, scale, codeLeft, codeTop);
  return image;
}

function drawModules(
  image: RgbImage,
  modules: QRCode.BitMatrix,
  scale: number,
  left: number,
  top: number,
): void {
  for (let row = 0; row < modules.size; row += 1) {
    for (let column = 0; column < modules.size; column += 1) {
      if (!modules.get(row, column)) continue;
      const square = {
        x: left + column * scale,
        y: top + row * scale,
        width: scale,
        height: scale,
      };
      fillRoundedRect(image, square, 0, moduleColour);
    }
  }
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fills a rectangle with rounded corners, clipped to the image. */
function fillRoundedRect(image: RgbImage, rect: Rect, radius: number, colour: Rgb): void {
  const fromY = Math.max(0, rect.y);
  const toY = Math.min(image.height, rect.y + rect.height);
  for (let y = fromY; y < toY; y += 1) {
    const inset = cornerInset(y - rect.y, rect.height, radius);
    const fromX = Math.max(0, rect.x + inset);
    const toX = Math.min(image.width, rect.x + rect.width - inset);
    for (let x = fromX; x < toX; x += 1) image.data.set(colour, (y * image.width + x) * 3);
  }
}

/** How far a row of a rounded rectangle starts in from its straight edge. */
function cornerInset(rowInRect: number, height: number, radius: number): number {
  const fromEdge = Math.min(rowInRect, height - 1 - rowInRect);
  if (radius <= 0 || fromEdge >= radius) return 0;

  const dy = radius - fromEdge - 0.5;
  return Math.ceil(radius - Math.sqrt(radius * radius - dy * dy));
}

/** Scales a picture to fit the frame, keeping its proportions, on a neutral grey background. */
async function fitImage(file: string, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(file)
    .flatten({ background: '#808080' })
    .resize(width, height, { fit: 'contain', background: '#808080' })
    .removeAlpha()
    .raw()
    .toBuffer();

  return { width, height, data };
}
