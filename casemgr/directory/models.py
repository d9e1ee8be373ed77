from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casemgr.cases.workflow import OrganisationRef, OrgKind
from casemgr.database import Base, UTCDateTime


class Organisation(Base):
    """A partner hotline, a police unit or a hosting provider."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(10), default="en")
    address: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def ref(self) -> OrganisationRef:
        return OrganisationRef(id=self.id, kind=OrgKind(self.kind), country=self.country)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})" if self.country else self.name

    def __repr__(self) -> str:
        return f"<Organisation {self.kind} {self.name}>"
