/**
 * The MCP server over stdio, for agents that start it themselves:
 *
 *   REPLAYA_URL=https://replay.example REPLAYA_TOKEN=rpt_… deno task mcp
 *
 * Tools: see `mcp_tools.ts`. The same tools are served over streamable HTTP
 * at the server's `/mcp` (behind a read token).
 *
 * @module
 */

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { Api } from "../client/api.ts";
import { createMcpServer } from "../client/mcp_tools.ts";

const url = Deno.env.get("REPLAYA_URL");
if (!url) {
  console.error("replaya mcp: set REPLAYA_URL (and REPLAYA_TOKEN to a read token from the dashboard's Tokens page)");
  Deno.exit(2);
}
const server = createMcpServer(new Api({ url, token: Deno.env.get("REPLAYA_TOKEN") }));
await server.connect(new StdioServerTransport());
