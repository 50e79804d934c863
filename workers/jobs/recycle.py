"""The recycle job's shell: the bodies are the customers package's (`app.customers.recycling`)
and then the leads package's (`app.leads.recycling`, counts `leads_recycled`)."""

from app.customers.recycling import BATCH, BatchHook
from app.customers.recycling import recycle as recycle_customers
from app.leads.recycling import recycle_leads


async def recycle(
    counts: dict[str, int], *, batch: int = BATCH, after_batch: BatchHook | None = None
) -> None:
    """Customers, then leads."""
    await recycle_customers(counts, batch=batch, after_batch=after_batch)
    await recycle_leads(counts)


__all__ = ["recycle"]
