"""Links between records of different sources: the same event coded by ACLED, UCDP and an article."""
