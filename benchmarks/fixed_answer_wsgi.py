"""A WSGI application that reads the request and sends a fixed XML-RPC answer: served by gunicorn with
the lab's arguments, it shows what the server and the client cost before any application does anything."""

import xmlrpc.client

ANSWER = xmlrpc.client.dumps(({"valid": True},), methodresponse=True, allow_none=True).encode()


def application(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]
