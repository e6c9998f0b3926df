"""A ledger: balances depend on the previous balance; interest per account does not."""

ACCOUNTS = {f"acct{i}": 100.0 + i * 25 for i in range(10)}
MOVES = [(f"acct{i % 10}", (i * 13) % 40 - 20) for i in range(60)]


def interest(balance, rate):
    return round(balance * rate, 2)


balances = dict(ACCOUNTS)
for account, amount in MOVES:  # expect: sequential
    balances[account] += amount
earned = []
for account in sorted(balances):  # expect: parallel
    earned.append(interest(balances[account], 0.015))
print(round(sum(earned), 2))
running = 0.0
trail = []
for amount in earned:  # expect: sequential
    running = running + amount
    trail.append(round(running, 2))
print(trail[-1])
