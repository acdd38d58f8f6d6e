"""Gazetteer entries: every settlement of Ukraine plus the larger cities of Europe."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.extensions import db
from aidmatch.places.pcodes import pcodes


class Place(db.Model):
    __tablename__ = "places"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        CheckConstraint("population >= 0", name="population_not_negative"),
        Index("ix_places_country_oblast", "country", "oblast"),
        Index("ix_places_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # KATOTTG code for Ukrainian settlements (e.g. UA63120270010096626), GeoNames id otherwise.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # Latin (English or transliterated)
    name_uk: Mapped[str | None] = mapped_column(String(200))
    alt_names: Mapped[str] = mapped_column(Text, default="")  # "|"-separated other spellings
    kind: Mapped[str] = mapped_column(String(16), default="city")  # city, town, village, ...
    country: Mapped[str] = mapped_column(String(2))
    oblast: Mapped[str | None] = mapped_column(String(120))  # English, e.g. "Kharkiv Oblast"
    oblast_uk: Mapped[str | None] = mapped_column(String(120))
    raion: Mapped[str | None] = mapped_column(String(120))
    hromada: Mapped[str | None] = mapped_column(String(120))
    hromada_code: Mapped[str | None] = mapped_column(String(32), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    # True when the point is the hromada's centre, not the settlement's own.
    approximate: Mapped[bool] = mapped_column(default=False)
    population: Mapped[int] = mapped_column(default=0)

    # OCHA P-codes (places/pcodes.py), derived from the KATOTTG code; None outside Ukraine.
    @property
    def adm1_pcode(self) -> str | None:
        """The oblast's P-code ("UA63"); Kyiv UA80, Sevastopol UA85, Crimea UA01."""
        codes = pcodes(self.code)
        return codes.adm1 if codes else None

    @property
    def adm2_pcode(self) -> str | None:
        """The raion's P-code ("UA6312")."""
        codes = pcodes(self.code)
        return codes.adm2 if codes else None

    @property
    def adm3_pcode(self) -> str | None:
        """The hromada's P-code ("UA6312027")."""
        codes = pcodes(self.code)
        return codes.adm3 if codes else None

    @property
    def adm1_name(self) -> str | None:
        """The level-1 unit's name as the gazetteer writes it in English ("Kharkiv Oblast",
        "Kyiv", "Autonomous Republic of Crimea"); None outside Ukraine."""
        return self.oblast if pcodes(self.code) else None

    def __repr__(self) -> str:
        return f"<Place {self.id} {self.name!r} {self.oblast or self.country}>"
