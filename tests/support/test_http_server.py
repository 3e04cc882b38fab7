"""What the Python test peers (http1_server.py, ccf_server.py) share: serving a handler on
127.0.0.1, over TLS with ALPN http/1.1 only when asked, with the bound port written to a file
(atomically, so the test never reads half of it) once it listens."""
import os
import ssl
from http.server import ThreadingHTTPServer


def serve(handler, port_file, port=0, tls=None):
    """Serves `handler` until killed. `tls`: (certificate file, key file) or None."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        ctx.set_alpn_protocols(["http/1.1"])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
