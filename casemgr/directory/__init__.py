"""The directory of organisations: partner hotlines, police, hosting providers."""
