/**
 * The Express majors the adapter supports, for `describe.each`: Express 5
 * (`express`) and Express 4 (`express4`, an npm alias), typed as one factory.
 */
import express5 from 'express';
import express4 from 'express4';

export type ExpressFactory = typeof express5;
export type App = ReturnType<ExpressFactory>;

export const EXPRESS_MAJORS: Array<[string, ExpressFactory]> = [
  ['Express 5', express5],
  ['Express 4', express4 as unknown as ExpressFactory],
];
