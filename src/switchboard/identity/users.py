"""Users: adding them to accounts, listing, changing them, and enabling, disabling or locking them.

Every change that may revoke an API key (state, name, password) is recorded as a credentials change, so
that every server stops using what it cached (see `switchboard.identity.credentials`)."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import Session

from switchboard.caller import Caller
from switchboard.db.models.identity import Account, Domain, User
from switchboard.errors import Conflict, InvalidParameter, NotFound, PermissionDenied
from switchboard.identity import grants, paths, repository, scope
from switchboard.identity.credentials import CredentialChanges
from switchboard.identity.domains import domain_for
from switchboard.identity.password_policy import check_password
from switchboard.identity.passwords import hash_password, verify_password
from switchboard.identity.records import UserRecord
from switchboard.identity.sessions import SessionStore
from switchboard.roles import RoleType

__all__ = ["USER_STATES", "Users", "new_user", "user_for"]

USER_STATES = ("enabled", "disabled", "locked")


class Users:
    def __init__(self, *, sessions: SessionStore, credentials: CredentialChanges) -> None:
        self._sessions = sessions
        self._credentials = credentials

    def create_user(self, session: Session, caller: Caller, *, account_name: str, username: str, password: str,
                    email: str, firstname: str, lastname: str, domain_uuid: str | None = None,
                    timezone: str | None = None) -> UserRecord:
        """Add a user to an existing account. Raises InvalidParameter (no such account), PermissionDenied,
        Conflict (duplicate username in the domain)."""
        domain = domain_for(session, caller, domain_uuid)
        found = repository.find_account(session, Account.domain_id == domain.id, Account.name == account_name)
        if found is None:
            raise InvalidParameter(f"Unable to find account {account_name} in domain {paths.shown(domain.path)}",
                                   parameter="account")
        scope.check_account(caller, account_id=found.account.id, domain_path_stored=domain.path)
        # A new user of an account acts with the account's role: adding one is acting on the account.
        grants.check_manageable(caller, account_name=found.account.name, account_uuid=found.account.uuid,
                                role=found.role)
        user = new_user(session, found.account, domain, username=username, password=password, email=email,
                        firstname=firstname, lastname=lastname, timezone=timezone)
        return UserRecord(user, found.account, domain, found.role)

    def list_users(self, session: Session, caller: Caller, *, uuid: str | None = None,
                   username: str | None = None, account_name: str | None = None, domain_uuid: str | None = None,
                   state: str | None = None, keyword: str | None = None) -> list[UserRecord]:
        """Users the caller may see, newest first."""
        where = [scope.account_clause(caller, User.account_id)]
        if uuid:
            where.append(User.uuid == uuid)
        if username:
            where.append(User.username == username)
        if account_name:
            where.append(Account.name == account_name)
        if domain_uuid:
            where.append(User.domain_id == domain_for(session, caller, domain_uuid).id)
        if state:
            where.append(User.state == state.lower())
        if keyword:
            where.append(or_(repository.keyword_match(User.username, keyword),
                             repository.keyword_match(User.firstname, keyword),
                             repository.keyword_match(User.lastname, keyword),
                             repository.keyword_match(User.email, keyword)))
        return repository.list_users(session, *where)

    def update_user(self, session: Session, caller: Caller, user_uuid: str, *, username: str | None = None,
                    password: str | None = None, current_password: str | None = None, email: str | None = None,
                    firstname: str | None = None, lastname: str | None = None,
                    timezone: str | None = None) -> UserRecord:
        """Change a user's names, e-mail, time zone or password. Changing one's own password needs the
        current one (as CloudStack requires), so a stolen session cannot lock the owner out; the new one must
        follow the password policy. A new password ends the user's other login sessions (the caller's own
        session stays when it changes its own password)."""
        record = user_for(session, caller, user_uuid)
        user = record.user
        if password is not None:
            check_password(session, password, username=username or user.username, domain_path=record.domain.path)
            if user.id == caller.user_id and not verify_password(user.password_hash, current_password or ""):
                raise InvalidParameter("The current password is missing or wrong", parameter="currentpassword")
            user.password_hash = hash_password(password)
            self._sessions.close_all_for_user(session, user.id,
                                              keep=caller.session_key if user.id == caller.user_id else None)
        if username is not None and username != user.username:
            if repository.find_user(session, User.domain_id == user.domain_id, User.username == username):
                raise Conflict(f"The user {username} already exists in domain {paths.shown(record.domain.path)}")
            user.username = username
        for field, value in (("email", email), ("firstname", firstname), ("lastname", lastname),
                             ("timezone", timezone)):
            if value is not None:
                setattr(user, field, value)
        repository.add_unique(session, user)
        self._credentials.record(session)
        return record

    def reset_password(self, session: Session, *, username: str, domain_path: str, password: str) -> UserRecord:
        """Set a user's password from the command line (`switchboard admin reset-password`): the policy
        applies, every login session of the user ends. Raises NotFound, InvalidParameter."""
        domain = repository.find_domain(session, Domain.path == paths.stored(domain_path))
        record = (repository.find_user(session, User.username == username, User.domain_id == domain.id)
                  if domain is not None else None)
        if record is None:
            raise NotFound(f"No user {username} in domain {paths.shown(paths.stored(domain_path))}")
        check_password(session, password, username=username, domain_path=record.domain.path)
        record.user.password_hash = hash_password(password)
        self._sessions.close_all_for_user(session, record.user.id)
        session.flush()
        self._credentials.record(session)
        return record

    def check_user_state(self, session: Session, caller: Caller, user_uuid: str, state: str) -> UserRecord:
        """Check that `caller` may put the user into `state`; raises NotFound/PermissionDenied/InvalidParameter."""
        if state not in USER_STATES:
            raise InvalidParameter(f"Invalid user state {state}", parameter="state")
        record = user_for(session, caller, user_uuid)
        if record.user.id == caller.user_id and state != "enabled":
            raise InvalidParameter("The caller cannot disable or lock itself", parameter="id")
        return record

    def set_user_state(self, session: Session, caller: Caller, user_uuid: str, state: str) -> UserRecord:
        """Enable, disable or lock a user; disabling or locking also ends its login sessions."""
        return self.apply_user_state(session, self.check_user_state(session, caller, user_uuid, state), state)

    def apply_user_state(self, session: Session, record: UserRecord | str, state: str) -> UserRecord:
        """Put a user (a record, or a user UUID already checked) into `state`. Raises NotFound."""
        if isinstance(record, str):
            found = repository.find_user(session, User.uuid == record)
            if found is None:
                raise NotFound(f"Unable to find user by id {record}", uuids=[record])
            record = found
        record.user.state = state
        if state != "enabled":
            self._sessions.close_all_for_user(session, record.user.id)
        session.flush()
        self._credentials.record(session)
        return record


def new_user(session: Session, account: Account, domain: Domain, *, username: str, password: str,
             email: str, firstname: str, lastname: str, timezone: str | None) -> User:
    """Add a user with an argon2id password hash to `account`; InvalidParameter (the password policy) or
    Conflict when it cannot be."""
    check_password(session, password, username=username, domain_path=domain.path)
    if repository.find_user(session, User.domain_id == domain.id, User.username == username):
        raise Conflict(f"The user {username} already exists in domain {paths.shown(domain.path)}")
    user = User(username=username, account_id=account.id, domain_id=domain.id,
                password_hash=hash_password(password), email=email, firstname=firstname, lastname=lastname,
                timezone=timezone)
    repository.add_unique(session, user)
    return user


def user_for(session: Session, caller: Caller, user_uuid: str) -> UserRecord:
    """The user `user_uuid` when the caller may manage it: NotFound/PermissionDenied otherwise (outside the
    caller's reach, or in an account of a more privileged role type)."""
    record = repository.find_user(session, User.uuid == user_uuid)
    if record is None:
        raise NotFound(f"Unable to find user by id {user_uuid}", uuids=[user_uuid])
    scope.check_account(caller, account_id=record.account.id, domain_path_stored=record.domain.path)
    grants.check_manageable(caller, account_name=record.account.name, account_uuid=record.account.uuid,
                            role=record.role)
    # A user may manage only itself inside its account; account-level powers belong to domain admins.
    if caller.role_type is RoleType.USER and record.user.id != caller.user_id:
        raise PermissionDenied("The caller may only manage its own user")
    return record
