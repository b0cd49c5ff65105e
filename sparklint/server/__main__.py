from sparklint.server import serve

serve()
