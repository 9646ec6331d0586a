// Functions passed to Playwright's page.evaluate() run in the browser, where these globals exist. The test
// programs are type-checked without the DOM library, whose types clash with node's (see tsconfig.test.json).
declare const window: any;
declare const document: any;
