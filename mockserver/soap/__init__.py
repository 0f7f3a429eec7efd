"""The SOAP surface (/WebService.asmx): the ASMX-style front, spyne models and the reply template."""
