"""Local services for `make run`, `make test` and `make bench`.

    python scripts/dev.py services [--browser]   Redis and RabbitMQ up (and Chromium's headless shell)
    python scripts/dev.py run                    the whole app on http://127.0.0.1:$PORT

Uses Redis and RabbitMQ where they already run; otherwise starts local ones,
installing the Debian packages when this user may. In development, MongoDB is
SecantusDB under var/ and mail goes to a local SMTP sink, unless MONGODB_URI or
MAIL_SERVER say otherwise (in the environment or .env).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

from dotenv import load_dotenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import config  # noqa: E402

VENV_BIN = os.path.dirname(sys.executable)
VAR = os.path.join(ROOT, "var")


def say(message):
    print(f"==> {message}", flush=True)


def listening(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(ready, what, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.25)
    sys.exit(f"{what} did not come up within {seconds} seconds.")


def apt_install(*packages):
    if subprocess.run([os.path.join(ROOT, "scripts", "apt-install"), *packages]).returncode:
        sys.exit(f"Install {' '.join(packages)} and run this again.")


def local(url, default_port):
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    return host in ("127.0.0.1", "localhost", "::1"), host, parts.port or default_port


def ensure_redis(url):
    is_local, host, port = local(url, 6379)
    if listening(host, port):
        return
    if not is_local:
        sys.exit(f"Redis at {host}:{port} (REDIS_URL) is not reachable.")
    if not shutil.which("redis-server"):
        apt_install("redis-server")
    say(f"Starting Redis on port {port}")
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: listening(host, port), "Redis", 20)


def ensure_rabbitmq(url):
    import pika

    is_local, host, port = local(url, 5672)

    def ready():
        try:
            pika.BlockingConnection(pika.URLParameters(url)).close()
            return True
        except Exception:
            return False

    if ready():
        return
    if not is_local:
        sys.exit(f"RabbitMQ at {host}:{port} (RABBITMQ_URL) is not reachable.")
    if not shutil.which("rabbitmq-server") and not os.path.exists("/usr/sbin/rabbitmq-server"):
        apt_install("rabbitmq-server")
    if not listening(host, port):
        say("Starting RabbitMQ (this takes a few seconds)")
        subprocess.run(["rabbitmq-server", "-detached"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(ready, "RabbitMQ", 120)


EMOJI_FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"


def ensure_chromium():
    """Chromium's headless shell for the browser tests (tests/browser/conftest.py),
    and a colour emoji font so that screenshots show 👍 as people see it."""
    missing = []
    if not os.path.exists("/usr/lib/chromium/chromium-headless-shell"):
        missing.append("chromium-headless-shell")
    if not os.path.exists(EMOJI_FONT):
        missing.append("fonts-noto-color-emoji")
    if missing:
        apt_install(*missing)


def services(settings, browser=False):
    ensure_redis(settings["REDIS_URL"])
    ensure_rabbitmq(settings["RABBITMQ_URL"])
    if browser:
        ensure_chromium()


def start_background(command, log_name):
    os.makedirs(VAR, exist_ok=True)
    log = open(os.path.join(VAR, log_name), "ab")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_like_ctrl_c(number, frame):
    """A SIGTERM (kill, a process manager) stops everything, as Ctrl+C does."""
    raise KeyboardInterrupt


def run():
    settings = config.load()
    services(settings)
    started = []
    if not os.environ.get("MONGODB_URI"):
        if not listening("127.0.0.1", config.DEV_MONGODB_PORT):
            say(f"Starting SecantusDB (MongoDB) on port {config.DEV_MONGODB_PORT}, data in var/mongo")
            started.append(
                start_background(
                    [
                        os.path.join(VENV_BIN, "secantusd-py"),
                        "--port",
                        str(config.DEV_MONGODB_PORT),
                        "--storage-path",
                        os.path.join(VAR, "mongo"),
                    ],
                    "secantus.log",
                )
            )
        wait_until(lambda: listening("127.0.0.1", config.DEV_MONGODB_PORT), "SecantusDB", 30)
    if not os.environ.get("MAIL_SERVER"):
        if not listening("127.0.0.1", config.DEV_SMTP_PORT):
            say(f"Starting the development mail sink on port {config.DEV_SMTP_PORT}; read it at /dev/mailbox")
            started.append(
                start_background(
                    [
                        sys.executable,
                        "-m",
                        "aiosmtpd",
                        "-n",
                        "-l",
                        f"127.0.0.1:{config.DEV_SMTP_PORT}",
                        "-c",
                        "aiosmtpd.handlers.Mailbox",
                        settings["DEV_MAILBOX"],
                    ],
                    "mail-sink.log",
                )
            )
        wait_until(lambda: listening("127.0.0.1", config.DEV_SMTP_PORT), "the mail sink", 15)

    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
    subprocess.run([os.path.join(VENV_BIN, "flask"), "--app", "wsgi", "release"], check=True, env=env)
    port = int(os.environ.get("PORT", "5000"))
    url = f"http://127.0.0.1:{port}"
    honcho = subprocess.Popen(
        [os.path.join(VENV_BIN, "honcho"), "start", "-f", "Procfile.dev", "-p", str(port)], env=env
    )
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)

    def web_up():
        try:
            return urllib.request.urlopen(url + "/signin", timeout=1).status == 200
        except OSError:
            return False

    try:
        wait_until(lambda: web_up() or honcho.poll() is not None, "The web process", 60)
        if honcho.poll() is None:
            say(f"Parley is running at {url}  (sign-in codes: {url}/dev/mailbox; Ctrl+C stops it)")
        honcho.wait()
    except KeyboardInterrupt:
        honcho.send_signal(signal.SIGINT)
        honcho.wait()
    finally:
        for process in started:
            process.terminate()
            process.wait(10)
    return honcho.returncode


def main():
    os.chdir(ROOT)
    load_dotenv(os.path.join(ROOT, ".env"), override=False)
    # Said explicitly: an unset APP_ENV means production (see config.py).
    os.environ.setdefault("APP_ENV", "development")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run")
    services_parser = commands.add_parser("services")
    services_parser.add_argument("--browser", action="store_true", help="also make sure Chromium is installed")
    arguments = parser.parse_args()
    if arguments.command == "run":
        sys.exit(run())
    services(config.load(), browser=arguments.browser)


if __name__ == "__main__":
    main()
