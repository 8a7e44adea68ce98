"""The chat in the browser and the servers for programs (REST, MCP); imported only by `qa chat`,
`qa serve` and `qa mcp` (gradio, fastapi and mcp stay optional)."""
