"""Carlo Gavazzi EMS gateway: meters, loads and signals over the EMS Webapi 1.0.0."""
