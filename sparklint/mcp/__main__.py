from sparklint.mcp import serve

serve()
