"""Tables of the user block: accounts, RBAC, sign-in sessions (refresh-token families) and the
sign-in audit trail. Other blocks never import these; they use the user service instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tessera.lib.db import Base, BigIntId, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

role_permission = Table(
    "role_permission",
    Base.metadata,
    Column("role_id", BigIntId, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_id", BigIntId, ForeignKey("permission.id", ondelete="CASCADE"), primary_key=True
    ),
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_unicode_ci",
)

user_role = Table(
    "user_role",
    Base.metadata,
    Column(
        "user_id", BigIntId, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("role_id", BigIntId, ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_unicode_ci",
)


class PermissionDO(Base):
    __tablename__ = "permission"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")


class RoleDO(Base):
    __tablename__ = "role"
    __table_args__ = MYSQL_TABLE

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    permissions: Mapped[list[PermissionDO]] = relationship(
        secondary=role_permission, lazy="selectin", order_by=PermissionDO.code
    )


class UserDO(Base):
    __tablename__ = "user_account"
    __table_args__ = (Index("ix_user_account_phone", "phone"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased copy: uniqueness and sign-in ignore case on every database.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    display_name: Mapped[str | None] = mapped_column(String(64), default=None)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # Set by the file block (PUT /users/me/avatar) through `service.set_avatar_url`.
    avatar_url: Mapped[str | None] = mapped_column(String(255), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Proven by a link sent to `email` / a code sent to `phone` (E.164); cleared on change.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Base32 TOTP secret; set at enrolment, in force once `mfa_enabled_at` is set.
    # Fernet-sealed (tessera.lib.otp.seal), never the plain seed.
    mfa_totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    roles: Mapped[list[RoleDO]] = relationship(
        secondary=user_role, lazy="selectin", order_by=RoleDO.name
    )


class AuthSessionDO(Base):
    """One signed-in device: a family of refresh tokens that rotate on every use."""

    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_user_id", "user_id"), MYSQL_TABLE)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(32), default=None)


class RefreshTokenDO(Base):
    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_session_id", "session_id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_session.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class LoginAuditDO(Base):
    __tablename__ = "login_audit"
    __table_args__ = (
        Index("ix_login_audit_created_at", "created_at"),
        Index("ix_login_audit_user_id", "user_id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    identifier: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    outcome: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MfaRecoveryCodeDO(Base):
    """Single-use second-factor codes for a lost authenticator, stored as SHA-256."""

    __tablename__ = "mfa_recovery_code"
    __table_args__ = (Index("ix_mfa_recovery_code_user_id", "user_id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
