"""Declarative country profiles and the one generic loader that reads every export with them."""

from orchestration.profiles.model import COUNTRY_CODES, Profile, get_profile, load_profiles

__all__ = ["COUNTRY_CODES", "Profile", "get_profile", "load_profiles"]
