"""Identity: domains, roles, accounts, users, passwords, API keys and login sessions.

Stateless operations are module functions (`domains`, `grants`, `accounts`); the services that hold state
(`login.Login`, `users.Users`, `keys.ApiKeys`) are built once by the composition root. `scope` holds the
visibility rules that list commands of every area apply.
"""
