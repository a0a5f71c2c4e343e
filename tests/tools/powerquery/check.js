// Parses M (Power Query) expressions with Microsoft's parser, @microsoft/powerquery-parser.
// Input on stdin: a JSON object, name -> M expression. Output: a JSON object, name -> null when the
// expression lexes and parses, else the parser's error message. Exit code 1 when any expression fails.
"use strict";
const PQP = require("@microsoft/powerquery-parser");

async function main() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const expressions = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const results = {};
    for (const [name, text] of Object.entries(expressions)) {
        const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, text);
        results[name] = PQP.TaskUtils.isOk(task) ? null : `${task.stage}: ${task.error.message}`;
    }
    process.stdout.write(JSON.stringify(results, null, 1) + "\n");
    return Object.values(results).some((error) => error !== null) ? 1 : 0;
}

main().then(
    (code) => process.exit(code),
    (error) => {
        console.error(error);
        process.exit(2);
    },
);
