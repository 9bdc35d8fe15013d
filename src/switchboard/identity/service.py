"""Identity operations behind the API: domains, accounts, users, keys, login and logout.

Every method takes the caller and applies the scoping rules of `scope`; the API edge only parses and shapes.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from switchboard.api.caller import Caller
from switchboard.db.models.identity import Account, Domain, Role, User
from switchboard.errors import AuthenticationFailed, Conflict, InvalidParameter, NotFound, PermissionDenied
from switchboard.identity import apikeys, credentials, paths, repository, scope
from switchboard.identity.cache import KeyCache
from switchboard.identity.passwords import hash_password, needs_rehash, verify_password
from switchboard.identity.records import (
    ACCOUNT_TYPES,
    AccountRecord,
    DomainRecord,
    KeyPair,
    UserRecord,
    role_type_of,
)
from switchboard.identity.serverkey import ServerKey
from switchboard.identity.sessions import SessionStore
from switchboard.roles import RoleType

USER_STATES = ("enabled", "disabled", "locked")
# Which role types a caller of each type may hand out when creating accounts.
_GRANTABLE: dict[RoleType, frozenset[RoleType]] = {
    RoleType.ADMIN: frozenset(RoleType),
    RoleType.DOMAIN_ADMIN: frozenset({RoleType.DOMAIN_ADMIN, RoleType.USER}),
    RoleType.RESOURCE_ADMIN: frozenset({RoleType.USER}),
    RoleType.USER: frozenset(),
}


def _like(column: ColumnElement[str] | InstrumentedAttribute[str], keyword: str) -> ColumnElement[bool]:
    """CloudStack's `keyword`: a case-insensitive substring match; `%` and `_` are taken literally."""
    return func.lower(column).contains(keyword.lower(), autoescape=True)


class IdentityService:
    def __init__(self, *, server_key: ServerKey, sessions: SessionStore, cache: KeyCache) -> None:
        self._server_key = server_key
        self.sessions = sessions
        self._cache = cache

    # -- login ---------------------------------------------------------------------------------------

    def login(self, session: Session, *, username: str, password: str, domain_path: str | None = None,
              domain_id: str | None = None, client_ip: str = "") -> tuple[UserRecord, str]:
        """Check the password (argon2id) and open a session. Raises AuthenticationFailed, never saying why.

        The domain is `domain_id` (an internal id or a UUID) when given, else `domain_path`, else ROOT."""
        if domain_id:
            # CloudStack's domainId is the internal id; Switchboard also takes the UUID the API shows.
            numeric = domain_id.isdigit() and len(domain_id) < 10
            key = Domain.id == int(domain_id) if numeric else Domain.uuid == domain_id
            domain = repository.find_domain(session, key)
        else:
            domain = repository.find_domain(session, Domain.path == paths.stored(domain_path or "/"))
        record = (repository.find_user(session, User.username == username, User.domain_id == domain.id)
                  if domain is not None else None)
        valid = verify_password(record.user.password_hash if record else None, password)
        if record is None or not valid or not repository.is_active(record):
            shown_domain = domain_id or domain_path or "/"
            raise AuthenticationFailed(
                f"Failed to authenticate user {username} in domain {shown_domain}; please provide valid credentials"
            )
        if record.user.password_hash and needs_rehash(record.user.password_hash):
            record.user.password_hash = hash_password(password)  # upgrade hashes made with other parameters
        return record, self.sessions.open(session, record, client_ip=client_ip)

    def logout(self, session: Session, caller: Caller) -> None:
        """End the caller's login session (a no-op for API-key callers)."""
        if caller.session_key:
            self.sessions.close(session, caller.session_key)

    # -- domains -------------------------------------------------------------------------------------

    def create_domain(self, session: Session, caller: Caller, *, name: str, parent_uuid: str | None,
                      network_domain: str | None = None) -> DomainRecord:
        """Create a subdomain of `parent_uuid` (default: the caller's domain). Raises InvalidParameter for a
        bad name, NotFound for a parent outside the caller's subtree, Conflict for a duplicate."""
        if "/" in name or not name.strip():
            raise InvalidParameter("Domain name must not be empty or contain '/'", parameter="name")
        parent = (repository.find_domain(session, Domain.uuid == parent_uuid) if parent_uuid
                  else repository.find_domain(session, Domain.id == caller.domain_id))
        if parent is None or not scope.can_access_domain(caller, parent.path):
            raise NotFound(f"Unable to find domain by id {parent_uuid}", uuids=[parent_uuid or ""])
        path = paths.child(parent.path, name)
        if repository.find_domain(session, Domain.path == path) is not None:
            raise Conflict(f"Domain with name {name} already exists for the parent id={parent.uuid}")
        domain = Domain(name=name, path=path, parent_id=parent.id, level=parent.level + 1,
                        network_domain=network_domain)
        self._insert(session, domain)
        return DomainRecord(domain, parent, False)

    def list_domains(self, session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                     level: int | None = None, keyword: str | None = None) -> list[DomainRecord]:
        """Domains the caller may see, newest first, filtered as CloudStack's listDomains does."""
        where = [scope.domain_clause(caller, Domain.path)]
        if uuid:
            where.append(Domain.uuid == uuid)
        if name:
            where.append(Domain.name == name)
        if level is not None:
            where.append(Domain.level == level)
        if keyword:
            where.append(_like(Domain.name, keyword))
        return repository.list_domains(session, *where)

    def _domain_for(self, session: Session, caller: Caller, domain_uuid: str | None) -> Domain:
        if not domain_uuid:
            domain = repository.find_domain(session, Domain.id == caller.domain_id)
        else:
            domain = repository.find_domain(session, Domain.uuid == domain_uuid)
        if domain is None or not scope.can_access_domain(caller, domain.path):
            raise NotFound(f"Unable to find domain by id {domain_uuid}", uuids=[domain_uuid or ""])
        return domain

    # -- roles ---------------------------------------------------------------------------------------

    def list_roles(self, session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                   role_type: RoleType | None = None, keyword: str | None = None) -> list[Role]:
        """Roles the caller may see: its own type and the types it may grant."""
        where: list[ColumnElement[bool]] = []
        if uuid:
            where.append(Role.uuid == uuid)
        if name:
            where.append(Role.name == name)
        if role_type is not None:
            where.append(Role.role_type == role_type.wire_name)
        if keyword:
            where.append(or_(_like(Role.name, keyword), _like(Role.description, keyword)))
        visible = _GRANTABLE[caller.role_type] | {caller.role_type}
        return [role for role in repository.list_roles(session, *where) if role_type_of(role) in visible]

    def _role_for(self, session: Session, caller: Caller, *, role_uuid: str | None,
                  account_type: int | None) -> Role:
        if role_uuid:
            role = repository.find_role(session, Role.uuid == role_uuid)
            if role is None:
                raise InvalidParameter(f"Unable to find role by id {role_uuid}", parameter="roleid")
        elif account_type is not None:
            wanted = next((rt for rt, number in ACCOUNT_TYPES.items() if number == account_type), None)
            if wanted is None:
                raise InvalidParameter(f"Invalid account type {account_type}", parameter="accounttype")
            role = repository.find_role(session, Role.role_type == wanted.wire_name, Role.is_default.is_(True))
            if role is None:
                raise NotFound(f"No default role for account type {account_type}")
        else:
            raise InvalidParameter("Either roleid or accounttype must be given", parameter="roleid")
        if role_type_of(role) not in _GRANTABLE[caller.role_type]:
            raise PermissionDenied(f"The caller may not create accounts with role {role.name}")
        return role

    # -- accounts and users --------------------------------------------------------------------------

    def create_account(self, session: Session, caller: Caller, *, username: str, password: str, email: str,
                       firstname: str, lastname: str, account_name: str | None = None,
                       domain_uuid: str | None = None, role_uuid: str | None = None,
                       account_type: int | None = None, timezone: str | None = None) -> AccountRecord:
        """Create an account with its first user. Raises NotFound (domain), InvalidParameter (role or
        account type), PermissionDenied (a role above the caller's), Conflict (duplicate account or user)."""
        domain = self._domain_for(session, caller, domain_uuid)
        role = self._role_for(session, caller, role_uuid=role_uuid, account_type=account_type)
        name = account_name or username
        if repository.find_account(session, Account.domain_id == domain.id, Account.name == name):
            raise Conflict(f"The specified account: {name} already exists in domain {paths.shown(domain.path)}")
        account = Account(name=name, domain_id=domain.id, role_id=role.id)
        self._insert(session, account)
        user = self._new_user(session, account, domain, username=username, password=password, email=email,
                              firstname=firstname, lastname=lastname, timezone=timezone)
        return AccountRecord(account, domain, role, [user])

    def create_user(self, session: Session, caller: Caller, *, account_name: str, username: str, password: str,
                    email: str, firstname: str, lastname: str, domain_uuid: str | None = None,
                    timezone: str | None = None) -> UserRecord:
        """Add a user to an existing account. Raises InvalidParameter (no such account), PermissionDenied,
        Conflict (duplicate username in the domain)."""
        domain = self._domain_for(session, caller, domain_uuid)
        found = repository.find_account(session, Account.domain_id == domain.id, Account.name == account_name)
        if found is None:
            raise InvalidParameter(f"Unable to find account {account_name} in domain {paths.shown(domain.path)}",
                                   parameter="account")
        scope.check_account(caller, account_id=found.account.id, domain_path_stored=domain.path)
        user = self._new_user(session, found.account, domain, username=username, password=password, email=email,
                              firstname=firstname, lastname=lastname, timezone=timezone)
        return UserRecord(user, found.account, domain, found.role)

    def _new_user(self, session: Session, account: Account, domain: Domain, *, username: str, password: str,
                  email: str, firstname: str, lastname: str, timezone: str | None) -> User:
        if not password:
            raise InvalidParameter("Password must not be empty", parameter="password")
        if repository.find_user(session, User.domain_id == domain.id, User.username == username):
            raise Conflict(f"The user {username} already exists in domain {paths.shown(domain.path)}")
        user = User(username=username, account_id=account.id, domain_id=domain.id,
                    password_hash=hash_password(password), email=email, firstname=firstname, lastname=lastname,
                    timezone=timezone)
        self._insert(session, user)
        return user

    @staticmethod
    def _insert(session: Session, row: Domain | Account | User) -> None:
        # A concurrent create of the same name trips the unique constraint; the request's transaction is
        # then rolled back as a whole (no SAVEPOINT: nothing of the request may survive a clash).
        try:
            repository.add(session, row)
        except IntegrityError as exc:
            raise Conflict("An object with that name already exists") from exc

    def list_accounts(self, session: Session, caller: Caller, *, uuid: str | None = None, name: str | None = None,
                      domain_uuid: str | None = None, state: str | None = None,
                      keyword: str | None = None) -> list[AccountRecord]:
        """Accounts (with their users) the caller may see, newest first."""
        where = [scope.account_clause(caller, Account.id)]
        if uuid:
            where.append(Account.uuid == uuid)
        if name:
            where.append(Account.name == name)
        if domain_uuid:
            where.append(Account.domain_id == self._domain_for(session, caller, domain_uuid).id)
        if state:
            where.append(Account.state == state.lower())
        if keyword:
            where.append(_like(Account.name, keyword))
        return repository.list_accounts(session, *where)

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
            where.append(User.domain_id == self._domain_for(session, caller, domain_uuid).id)
        if state:
            where.append(User.state == state.lower())
        if keyword:
            where.append(or_(_like(User.username, keyword), _like(User.firstname, keyword),
                             _like(User.lastname, keyword), _like(User.email, keyword)))
        return repository.list_users(session, *where)

    def _user_for(self, session: Session, caller: Caller, user_uuid: str) -> UserRecord:
        record = repository.find_user(session, User.uuid == user_uuid)
        if record is None:
            raise NotFound(f"Unable to find user by id {user_uuid}", uuids=[user_uuid])
        scope.check_account(caller, account_id=record.account.id, domain_path_stored=record.domain.path)
        # A user may manage only itself inside its account; account-level powers belong to domain admins.
        if caller.role_type is RoleType.USER and record.user.id != caller.user_id:
            raise PermissionDenied("The caller may only manage its own user")
        return record

    def update_user(self, session: Session, caller: Caller, user_uuid: str, *, username: str | None = None,
                    password: str | None = None, current_password: str | None = None, email: str | None = None,
                    firstname: str | None = None, lastname: str | None = None,
                    timezone: str | None = None) -> UserRecord:
        """Change a user's names, e-mail, time zone or password. Changing one's own password needs the
        current one (as CloudStack requires), so a stolen session cannot lock the owner out."""
        record = self._user_for(session, caller, user_uuid)
        user = record.user
        if password is not None:
            if not password:
                raise InvalidParameter("Password must not be empty", parameter="password")
            if user.id == caller.user_id and not verify_password(user.password_hash, current_password or ""):
                raise InvalidParameter("The current password is missing or wrong", parameter="currentpassword")
            user.password_hash = hash_password(password)
        if username is not None and username != user.username:
            if repository.find_user(session, User.domain_id == user.domain_id, User.username == username):
                raise Conflict(f"The user {username} already exists in domain {paths.shown(record.domain.path)}")
            user.username = username
        for field, value in (("email", email), ("firstname", firstname), ("lastname", lastname),
                             ("timezone", timezone)):
            if value is not None:
                setattr(user, field, value)
        self._insert(session, user)
        self.credentials_changed(session)
        return record

    def credentials_changed(self, session: Session) -> None:
        """Record in the session's transaction that something API-key verification depends on changed, so
        that every server on the database stops using what it cached; this process forgets at once."""
        credentials.bump(session)
        self._cache.clear()

    def check_user_state(self, session: Session, caller: Caller, user_uuid: str, state: str) -> UserRecord:
        """Check that `caller` may put the user into `state`; raises NotFound/PermissionDenied/InvalidParameter."""
        if state not in USER_STATES:
            raise InvalidParameter(f"Invalid user state {state}", parameter="state")
        record = self._user_for(session, caller, user_uuid)
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
            self.sessions.close_all_for_user(session, record.user.id)
        session.flush()
        self.credentials_changed(session)
        return record

    # -- API keys ------------------------------------------------------------------------------------

    def register_keys(self, session: Session, caller: Caller, user_uuid: str) -> KeyPair:
        """Give the user a new key pair; the old one stops working at once in this process."""
        record = self._user_for(session, caller, user_uuid)
        pair = apikeys.assign(record.user, self._server_key)
        session.flush()
        self.credentials_changed(session)
        return pair

    def get_keys(self, session: Session, caller: Caller, user_uuid: str) -> KeyPair | None:
        """The user's key pair in the clear (None if it has none). Raises NotFound/PermissionDenied."""
        return apikeys.reveal(self._user_for(session, caller, user_uuid).user, self._server_key)

    def ensure_keys(self, session: Session, *, username: str, domain_path: str = "/") -> KeyPair:
        """The user's key pair, created when it has none (for `switchboard admin api-keys`)."""
        domain = repository.find_domain(session, Domain.path == paths.stored(domain_path))
        record = (repository.find_user(session, User.username == username, User.domain_id == domain.id)
                  if domain else None)
        if record is None:
            raise NotFound(f"No user {username} in domain {domain_path}")
        pair = apikeys.reveal(record.user, self._server_key)
        if pair is None:
            pair = apikeys.assign(record.user, self._server_key)
            session.flush()
            self.credentials_changed(session)
        return pair
