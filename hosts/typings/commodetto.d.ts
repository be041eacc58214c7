// Our declarations for the part of Moddable's Commodetto Poco renderer we use (the
// simulator's screen for the virtual LED), written from the Poco documentation.

declare module 'commodetto/Poco' {
  /** A renderer drawing into a pixel sink such as the global `screen`. */
  export default class Poco {
    constructor(pixelsOut: object);
    readonly width: number;
    readonly height: number;
    makeColor(r: number, g: number, b: number): number;
    /** Start a frame over the whole display or a rectangle of it. */
    begin(x?: number, y?: number, width?: number, height?: number): void;
    /** Send the frame to the display. */
    end(): void;
    fillRectangle(color: number, x: number, y: number, width: number, height: number): void;
  }
}
