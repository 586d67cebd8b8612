"""The channels that reach a customer: e-mail through any SMTP server, SMS and chat through a
provider's HTTP API (JSON {to, text, reference}, bearer token). Settings in shared/config.py; a channel
without its settings is unavailable. Each send answers (result, provider's answer), never raises."""
import smtplib
import ssl
from email.message import EmailMessage

import requests

from shared import config

TIMEOUT = 10  # seconds: a provider that hangs is a failed attempt, retried later


def available() -> tuple[str, ...]:
    """The channels configured in this process."""
    return tuple(c for c in ("email", "sms", "chat")
                 if (config.smtp_settings() if c == "email" else config.provider_settings(c)) is not None)


def send(channel: str, address: str, subject: str, body: str, reference: str) -> tuple[str, str]:
    """('sent' | 'refused' | 'unavailable', the provider's answer)."""
    if channel == "email":
        settings = config.smtp_settings()
        return ("unavailable", "email is not configured (PITLANE_SMTP_HOST)") if settings is None else \
            send_email(settings, address, subject, body, reference)
    settings = config.provider_settings(channel)
    if settings is None:
        return "unavailable", f"{channel} is not configured (PITLANE_{channel.upper()}_URL)"
    return send_http(settings, address, f"{subject}\n{body}" if subject else body, reference)


def send_email(settings: dict, address: str, subject: str, body: str, reference: str) -> tuple[str, str]:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = settings["sender"], address, subject
    mail["X-Pitlane-Reference"] = reference
    mail.set_content(body)
    try:
        if settings["tls"] == "ssl":
            smtp = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=TIMEOUT,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings["host"], settings["port"], timeout=TIMEOUT)
        with smtp:
            if settings["tls"] == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings["user"]:
                smtp.login(settings["user"], settings["password"] or "")
            refused = smtp.send_message(mail)
        if refused:
            return "refused", f"recipients refused: {refused}"
        return "sent", "250 accepted"
    except (smtplib.SMTPException, OSError) as exc:
        return "refused", f"{exc.__class__.__name__}: {exc}"


def send_http(settings: dict, address: str, text: str, reference: str) -> tuple[str, str]:
    try:
        response = requests.post(settings["url"], json={"to": address, "text": text, "reference": reference},
                                 headers={"Authorization": f"Bearer {settings['token']}"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return "refused", f"{exc.__class__.__name__}: {exc}"
    answer = f"{response.status_code} {response.text[:300]}"
    return ("sent" if 200 <= response.status_code < 300 else "refused"), answer
