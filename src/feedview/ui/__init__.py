"""The Textual dashboard. Imported only by the commands that open the app."""
