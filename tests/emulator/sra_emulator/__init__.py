"""sra's extension of moto: operations stock moto lacks or gets wrong, written to the
AWS API reference. `python -m sra_emulator --port N` starts moto in server mode with
every patch applied. docs/emulator.md lists which operation is served by what."""
