from django.contrib.auth.hashers import PBKDF2PasswordHasher


class TestPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few rounds: fast logins and client authentication in tests."""

    iterations = 1000
