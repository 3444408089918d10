"""SEAT training job for torch.distributed (torchrun): the same objective, methods and run-folder
format as the SEAT Tuner trainer, on PyTorch DDP or FSDP. Written into a job folder by
`seat export-job`; run with run_local.sh, run_multinode.sh or slurm.sbatch from that folder."""

JOB_VERSION = 1
