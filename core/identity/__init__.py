"""Who is asking: accounts, OpenID Connect login, server-side sessions, roles, API clients."""
