"""Flask-Mail with TLS that checks whom it talks to. Flask-Mail 0.10 calls
starttls() and SMTP_SSL without an SSL context, and Python then makes one
that verifies nothing: anyone between the worker and the mail server could
read the sign-in codes and the SMTP password. Here both get the default
context: the server's certificate must be valid for MAIL_SERVER and signed
by an authority the system trusts (SSL_CERT_FILE names another)."""

import smtplib
import ssl

import flask_mail
from flask import current_app


class VerifiedConnection(flask_mail.Connection):
    def configure_host(self):
        mail, context = self.mail, ssl.create_default_context()
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, context=context)
        else:
            host = smtplib.SMTP(mail.server, mail.port)
        host.set_debuglevel(int(mail.debug))
        if mail.use_tls:
            host.starttls(context=context)
        if mail.username and mail.password:
            host.login(mail.username, mail.password)
        return host


class Mail(flask_mail.Mail):
    def connect(self):
        return VerifiedConnection(current_app.extensions["mail"])
