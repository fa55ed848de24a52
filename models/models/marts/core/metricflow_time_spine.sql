-- One row per day over the company's history and the year ahead: the time spine the
-- semantic layer joins cumulative and period-over-period metrics to.
select cast(range as date) as date_day
from range(date '2023-01-01', date '2028-01-01', interval 1 day)
