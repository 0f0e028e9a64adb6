// Express 4 is installed as the npm alias `express4` (no types of its own).
// Its API used by the tests is a subset of Express 5's, so the tests borrow
// @types/express for it.
declare module 'express4' {
  import express from 'express';
  export default express;
}
