from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    """Real argon2 with a small cost, so that creating test personas stays fast."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1
