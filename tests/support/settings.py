"""Settings that several tests start an app or a process with."""

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 32,
    "JWT_SECRET_KEY": "j" * 32,
    "MONGODB_URI": "mongodb://db.example/parley",
    "REDIS_URL": "redis://cache.example:6379/0",
    "RABBITMQ_URL": "amqp://broker.example/",
    "MAIL_SERVER": "smtp.example",
    "MAIL_DEFAULT_SENDER": "Parley <hi@example.com>",
    "CLOUDINARY_URL": "cloudinary://k:s@cloud",
    "PUBLIC_URL": "https://parley.example",
}
