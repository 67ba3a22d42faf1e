/** This release of tdag (kept equal to package.json's version by a unit test). */
export const TDAG_VERSION = "0.2.0";
