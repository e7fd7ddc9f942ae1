"""Reusable pieces of the pages: the NHS look, pickers, rating widgets and plotly figure builders."""
