"""The pipeline job's shell: the stale-opportunity reminder, the body is the pipeline
package's (`app.pipeline.opportunities.stale`)."""

from app.pipeline.opportunities.stale import stale_opportunities as pipeline

__all__ = ["pipeline"]
