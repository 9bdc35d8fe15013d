"""CloudStack response objects that more than one place renders: the commands, and the results of the jobs
their async commands queue. A view used only by its own command module stays beside those commands."""
