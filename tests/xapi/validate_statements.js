// Reads a JSON array of xAPI statements on stdin and prints, as JSON, the problems
// Learning Locker's strict validator (npm package xapi-validation) finds in each:
// [{"index": 0, "id": "...", "errors": [{"path": "statement.id", "type": "..."}]}, ...]
"use strict";
const validate = require("xapi-validation").default;

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const statements = JSON.parse(input);
  const report = statements.map((statement, index) => ({
    index,
    id: statement.id,
    errors: validate(statement).map((warning) => ({
      path: warning.path.join("."),
      type: warning.typeName || warning.constructor.name,
      data: warning.data,
    })),
  }));
  process.stdout.write(JSON.stringify(report));
});
