"""Send a digest to its destinations: a chat webhook (Slack's incoming-webhook JSON
`{"text": ...}`, which Microsoft Teams' workflows accept too) and e-mail over SMTP.

A failure names the destination (the webhook's secret name, or the addresses) and never
the webhook URL, which is a credential: no message built here contains it."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from notify.secrets import SecretMissing, smtp_settings, webhook_url

TIMEOUT_S = 30


@dataclass(frozen=True)
class Delivery:
    destination: str  # "webhook 'team-chat'" or "e-mail to a@example.com"
    ok: bool
    error: str = ""


def send_webhook(name: str, text: str) -> None:
    """POST the text to the webhook called `name`; raises RuntimeError without the URL."""
    try:
        url = webhook_url(name)
    except SecretMissing as error:
        raise RuntimeError(str(error)) from None
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"the chat service answered HTTP {error.code}") from None
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        # The reason of a URLError is an OSError (refused, timeout, name not found): its
        # class and errno say what happened without repeating the address.
        kind = type(reason).__name__
        code = getattr(reason, "errno", None)
        raise RuntimeError(
            f"could not reach the chat service ({kind}{f' {code}' if code else ''})"
        ) from None
    if not 200 <= status < 300:
        raise RuntimeError(f"the chat service answered HTTP {status}")


def send_email(addresses: list[str], subject: str, text: str) -> None:
    try:
        settings = smtp_settings()
    except SecretMissing as error:
        raise RuntimeError(str(error)) from None
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(addresses)
    message.set_content(text)
    connect = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    try:
        with connect(settings.host, settings.port, timeout=TIMEOUT_S) as smtp:
            if settings.starttls and not settings.ssl:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
    except smtplib.SMTPException as error:
        raise RuntimeError(f"the mail server refused: {type(error).__name__}") from None
    except OSError as error:
        raise RuntimeError(f"could not reach the mail server ({type(error).__name__})") from None


def deliver(kind: str, target: str, *, subject: str, text: str) -> Delivery:
    """Send to one destination and say how it went (never raises for a failed send)."""
    destination = f"webhook '{target}'" if kind == "webhook" else f"e-mail to {target}"
    try:
        if kind == "webhook":
            send_webhook(target, text)
        else:
            send_email([a.strip() for a in target.split(",") if a.strip()], subject, text)
    except RuntimeError as error:
        return Delivery(destination, False, str(error))
    return Delivery(destination, True)
