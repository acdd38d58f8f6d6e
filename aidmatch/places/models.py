"""Gazetteer entries: every settlement of Ukraine plus the larger cities of Europe."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from aidmatch.extensions import db


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

    def __repr__(self) -> str:
        return f"<Place {self.id} {self.name!r} {self.oblast or self.country}>"
