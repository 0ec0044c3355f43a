"""The spread join: pure logic (messages, join), settings and the Bytewax flow."""
