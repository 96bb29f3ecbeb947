"""An aiosmtpd Maildir sink that requires SMTP AUTH (PLAIN or LOGIN, without TLS).

Used by smtp_proxy_test to check that the proxy passes AUTH through to its upstream.
    /usr/bin/python3 auth_sink.py PORT MAILDIR USER PASSWORD
"""
import asyncio
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    port, maildir, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)  # failure: aiosmtpd answers 535

    controller = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port),
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=False)
    controller.start()
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
