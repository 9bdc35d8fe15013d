"""Every model module, imported so that `Base.metadata` knows all tables.

One module per area; each area's owner adds its module here.
"""
