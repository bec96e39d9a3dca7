"""Documents of instances: uploaded files and the ones the server renders itself."""
