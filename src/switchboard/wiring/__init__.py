"""One module per area: `wire(parts)` contributes the area's services, routes and start-up steps."""
