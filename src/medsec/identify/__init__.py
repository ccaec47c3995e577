"""The identify stage: observations + fingerprint rules (data) -> device attributes."""
