"""Korean date and time formats where Django's own put the half of the day after the time
("4:00 오전"): Korean writes it first ("오전 4:00"), as 정부24 and KRDS do. The rest are Django's."""

DATETIME_FORMAT = "Y년 n월 j일 A g:i"
TIME_FORMAT = "A g:i"
