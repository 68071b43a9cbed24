"""Synthetic personal data (names, places, agencies): what the warehouse must never let past raw."""

from __future__ import annotations

import numpy as np

_GIVEN = {
    "BGD": ["Mohammad", "Nur", "Rahima", "Ayesha", "Abdul", "Hasina", "Rashid", "Fatema", "Jamal", "Setara"],
    "KEN": ["Achieng", "Deng", "Nyakim", "Gatluak", "Amina", "Otieno", "Nyabol", "Kuol", "Halima", "Lokiru"],
    "LBN": ["Ahmad", "Fatima", "Omar", "Layla", "Khaled", "Rania", "Yousef", "Maryam", "Hadi", "Zeinab"],
    "MMR": ["Aung", "Hla", "Kyaw", "Thida", "Zaw", "Nandar", "Min", "Khin", "Htet", "Su"],
    "NGA": ["Abubakar", "Aisha", "Musa", "Hauwa", "Ibrahim", "Zainab", "Usman", "Fatima", "Bukar", "Falmata"],
    "UKR": ["Oleksandr", "Anastasiia", "Dmytro", "Sofiia", "Maksym", "Viktoriia", "Andrii", "Daryna", "Ivan", "Polina"],
}
_FAMILY = {
    "BGD": ["Begum", "Khatun", "Ullah", "Hossain", "Alam", "Rahman"],
    "KEN": ["Ochieng", "Garang", "Mohamed", "Lokwang", "Ali", "Nyok"],
    "LBN": ["Haddad", "Khoury", "Al-Hussein", "Darwish", "Saleh", "Nasser"],
    "MMR": ["Win", "Oo", "Myint", "Thein", "Naing", "Htun"],
    "NGA": ["Mohammed", "Bello", "Modu", "Goni", "Adamu", "Lawan"],
    "UKR": ["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko"],
}
_PLACES = {
    "BGD": ["Cox's Bazar, Ukhia, Camp 4", "Cox's Bazar, Teknaf, Camp 26", "Cox's Bazar, Ukhia, Camp 15"],
    "KEN": ["Turkana, Kakuma, Kakuma 1", "Turkana, Kakuma, Kakuma 3", "Turkana, Kalobeyei, Village 2"],
    "LBN": ["Bekaa, Zahle, Bar Elias", "North, Akkar, Halba", "Beirut, Beirut, Bourj Hammoud"],
    "MMR": ["Rakhine, Sittwe, Thet Kel Pyin", "Kachin, Myitkyina, Waingmaw", "Shan, Lashio, Ward 5"],
    "NGA": ["Borno, Maiduguri, Bakassi camp", "Borno, Jere, Dalori", "Adamawa, Yola, Malkohi"],
    "UKR": ["Kharkivska, Kharkiv, Saltivka", "Dnipropetrovska, Dnipro, Chechelivskyi", "Lvivska, Lviv, Sykhiv"],
}


def _pick(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    return np.array(values, dtype=object)[rng.integers(0, len(values), size=n)]


def person_names(rng, country: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    return _pick(rng, _GIVEN[country], n), _pick(rng, _FAMILY[country], n)


def locations(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, _PLACES[country], n)


def free_text_places(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, [p.split(", ")[-1] for p in _PLACES[country]], n)


def agencies(rng, country: str, n: int) -> np.ndarray:
    return _pick(rng, [f"agency-{country.lower()}-{k}" for k in ("unicef", "save", "irc", "local")], n)
