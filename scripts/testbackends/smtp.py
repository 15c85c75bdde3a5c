"""An SMTP server (aiosmtpd from the repo's .venv) that writes every message into a Maildir."""
import socket

from testbackends.common import HOST, VENV_BIN, Backend, Started, port, wait_until
from testbackends.processes import spawn

PORT = port("TB_TEST_SMTP_PORT", 11025)


def start(tmp):
    maildir = tmp / "maildir"
    # aiosmtpd passes the trailing positional args to Mailbox.from_cli -> Mailbox(maildir)
    proc, log = spawn(tmp, "smtp", [VENV_BIN / "python", "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{PORT}",
                                    "-c", "aiosmtpd.handlers.Mailbox", str(maildir)])

    def banner():
        with socket.create_connection((HOST, PORT), timeout=2) as s:
            return s.recv(512).startswith(b"220")
    return Started(lambda: wait_until(banner, 30, "SMTP (aiosmtpd)", proc, log), {"maildir": str(maildir)})


def _exports(record):
    return {"TICKETBLUE_TEST_SMTP_URL": f"smtp://{HOST}:{PORT}", "TICKETBLUE_TEST_MAILDIR": record["maildir"]}


# The tests read delivered mail from the maildir, so a server we did not start is no use without it.
SMTP = Backend("smtp", PORT, start, _exports, reuse_needs_record=True)
