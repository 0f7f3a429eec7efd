"""The vendor's HTTP interface (*.aspx): parameters in, the vendor's XML or JSON replies out."""
